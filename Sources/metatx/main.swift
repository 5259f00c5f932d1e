print("metatx")
