"""Text taken out of a message's attachments and images, each extractor bounded."""
