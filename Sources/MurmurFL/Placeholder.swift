// MurmurFL: strategies, the round protocol and the simulation engine (being written).
