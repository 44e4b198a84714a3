"""What is kept on disk: the data store, the instrument's file names and the saved captures
handed to processing."""
