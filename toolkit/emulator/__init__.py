"""Local emulator of APIM and of Azure OpenAI backends."""
