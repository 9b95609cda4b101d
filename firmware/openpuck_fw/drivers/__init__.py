# Drivers for the puck's parts: IMU, force pad (FSR or load cell), RGB LED, buzzer.
