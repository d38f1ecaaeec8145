variable "name_prefix" {
  description = "Prefix of every resource name (functions, identities, orchestrator)."
  type        = string
  default     = "every-kind"
}

variable "tags" {
  description = "Tags (labels) put on every resource that takes them."
  type        = map(string)
  default = {
    managed-by = "glacier"
    pipeline   = "every-kind"
  }
}

variable "databricks_host" {
  description = "URL of the Databricks workspace that runs the cluster tasks."
  type        = string
  default     = "https://dbc-1.cloud.databricks.com"
}

variable "databricks_token" {
  description = "Secret from DatabricksConfig.token: a Databricks access token; never stored in code."
  type        = string
  sensitive   = true
}

variable "project_id" {
  description = "Google Cloud project to deploy to."
  type        = string
}

variable "region" {
  description = "Region for buckets, functions, clusters and workflows."
  type        = string
  default     = "us-central1"
}

variable "subnetwork" {
  description = "Subnetwork (self link) for instances and clusters."
  type        = string
  default     = "default"
}

variable "vm_task_timeout_seconds" {
  description = "How long a workflow waits for a task on a VM or cluster before it fails the run."
  type        = number
  default     = 21600
}
