"""`python -m keras_ser COMMAND ...`: the same as the `keras-ser` command (keras_ser.cli)."""

import sys

from keras_ser.cli import main

sys.exit(main())
