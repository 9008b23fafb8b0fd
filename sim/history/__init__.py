"""History: the world of a past start year, the calibration to it, and the out-of-sample hindcast."""
