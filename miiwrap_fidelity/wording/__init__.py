"""What people read: reason sentences, field errors, numbers in the active language, charts as SVG."""
