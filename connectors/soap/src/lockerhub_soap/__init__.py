"""lockerhub connectors for SOAP web services and XML file feeds of legacy TMSs."""
