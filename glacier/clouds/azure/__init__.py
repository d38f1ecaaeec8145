"""Microsoft Azure: Blob Storage and upload, the Terraform renderer, re-targeting facts."""
