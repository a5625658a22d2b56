"""Role workspaces: one blueprint per user group (street officer, state company, utility, bureau) and the compound page."""
