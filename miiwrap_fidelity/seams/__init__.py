"""The seams to the platform: the edx-platform adapter (the only module that imports it), course progress,
tracking events and their xAPI transformers."""
