"""Admin pages for this part of notifications (imported by notifications.admin)."""
