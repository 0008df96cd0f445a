"""SM 9.1.7's termination and transfer checklist: opened from people's signals."""
