"""chillerd: the Thermotek T257P camera chiller."""
