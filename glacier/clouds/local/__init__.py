"""The local disk: storage under LocalConfig.base_path."""
