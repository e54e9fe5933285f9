print("murmur: under construction")
