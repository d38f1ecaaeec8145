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

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "subnet_ids" {
  description = "Private subnets for functions, instances and clusters."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups for functions and instances."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Days to keep logs."
  type        = number
  default     = 365
}

variable "lambda_layer_arns" {
  description = "Extra layers for the functions (the generated layer holds Glacier and every pinned dependency)."
  type        = list(string)
  default     = []
}

variable "function_concurrency" {
  description = "Reserved concurrency of each function."
  type        = number
  default     = 10
}

variable "vpc_id" {
  description = "VPC of the subnets (EMR security groups are created in it)."
  type        = string
}

variable "emr_tls_certificates_zip" {
  description = "S3 URI of the PEM zip EMR uses for in-transit TLS."
  type        = string
}
