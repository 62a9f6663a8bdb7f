"""Semantic cache stores behind APIM's semantic-cache lookup/store policies (memory or Redis)."""
