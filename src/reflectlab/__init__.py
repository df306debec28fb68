"""reflectlab: make language models check and correct their own work, and measure whether it helped."""
