"""Config(path) as other rockit software constructs it: cameras as {camera id: {'daemon':
daemons entry, 'domain': libvirt domain}}."""
from rockit.common import config
from rockit.common.daemons import PyroDaemon

from .config import CamvirtConfig


class Config(config.by_path(CamvirtConfig)):
    def __init__(self, path):
        super().__init__(path)
        self.cameras = {camera_id: {'daemon': PyroDaemon.from_address(camera.address), 'domain': camera.domain}
                        for camera_id, camera in self.cameras.items()}
