"""What every secman app shares: errors, navigation, system checks, the base API pieces."""
