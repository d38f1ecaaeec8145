"""Google Cloud: Cloud Storage, the Terraform renderer, re-targeting facts."""
