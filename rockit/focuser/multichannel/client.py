"""Config(path) as other rockit software constructs it."""
from rockit.common import config

from .config import FocuserConfig

Config = config.by_path(FocuserConfig)
