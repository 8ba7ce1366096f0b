"""Command-line option types shared by the examples."""
import argparse
import os


def png_path(text):
    """An argparse type: a file to write in a folder that exists, checked before the example
    runs (not after it has trained)."""
    folder = os.path.dirname(os.path.abspath(text))
    if not text or os.path.isdir(text) or not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"{text!r} is not a file in a folder that exists")
    return text
