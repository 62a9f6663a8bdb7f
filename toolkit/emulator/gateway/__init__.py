"""The emulated APIM gateway: routing, circuit breakers, token limits and the policy pipeline."""
