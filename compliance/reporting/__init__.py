"""Compliance, reports and tax: execution reports and their parameters, the uploaded
workbooks, the environmental protection tax, statistics and the annual true-up (pure cores
`reports`, `report_parameters`, `workbook`, `tax`, `tax_parameters`, `statistics`, `trueup`;
`store`, `tables`; use cases `service`, `report_service`, `tax_service`)."""
