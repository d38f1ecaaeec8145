variable "name_prefix" {
  description = "Prefix of every resource name (functions, identities, orchestrator)."
  type        = string
  default     = "ml-inference"
}

variable "tags" {
  description = "Tags (labels) put on every resource that takes them."
  type        = map(string)
  default = {
    managed-by = "glacier"
    pipeline   = "ml-inference"
  }
}

variable "databricks_host" {
  description = "URL of the Databricks workspace that runs the cluster tasks."
  type        = string
}

variable "databricks_token" {
  description = "Secret from DatabricksConfig.token: a Databricks access token; never stored in code."
  type        = string
  sensitive   = true
}

variable "subscription_id" {
  description = "Azure subscription to deploy to."
  type        = string
}

variable "location" {
  description = "Azure region."
  type        = string
  default     = "eastus"
}

variable "resource_group_name" {
  description = "Resource group to create."
  type        = string
  default     = "ml-inference-rg"
}

variable "storage_account_name" {
  description = "Storage account holding every container."
  type        = string
  default     = "glmlinference"
}

variable "subnet_id" {
  description = "Subnet for virtual machines and private access."
  type        = string
}

variable "log_retention_days" {
  description = "Days to keep logs."
  type        = number
  default     = 365
}

variable "vm_task_timeout_seconds" {
  description = "How long a Logic App waits for a task on a VM or cluster before it fails the run."
  type        = number
  default     = 21600
}

variable "storage_network_default_action" {
  description = "The storage account's network rule for addresses outside var.subnet_id: 'Allow' lets consumption-plan functions and the machine running Terraform reach it (Entra ID only: shared keys are off); 'Deny' needs functions on a VNet-integrated plan (EP1-EP3)."
  type        = string
  default     = "Allow"
}
