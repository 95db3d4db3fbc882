// The header is the whole point of this target (CFuzzDriver.h).
