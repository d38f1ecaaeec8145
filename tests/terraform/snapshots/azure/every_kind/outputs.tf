output "container_names" {
  description = "Data containers, by Glacier bucket name."
  value = {
    orders-raw = azurerm_storage_container.orders_raw.name
    crm        = azurerm_storage_container.crm.name
    reports    = azurerm_storage_container.reports.name
  }
}

output "storage_account" {
  description = "The storage account holding them."
  value       = azurerm_storage_account.data.name
}

output "function_app_hostnames" {
  description = "Function apps, by executor name."
  value = {
    local = azurerm_linux_function_app.local.default_hostname
    fn    = azurerm_linux_function_app.fn.default_hostname
  }
}

output "logic_app_ids" {
  description = "Logic App workflows, by pipeline name: trigger one to run the pipeline."
  value = {
    every_kind = azurerm_logic_app_workflow.every_kind.id
  }
}
