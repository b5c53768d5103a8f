#!/usr/bin/python3
"""Writes lessons/data/iris.csv from the copy of Iris in Debian's python3-sklearn.

Run by hand (the CSV is committed; the lessons never need Python):

    /usr/bin/python3 lessons/data/make-iris.py

The 150 rows keep the dataset's order (50 setosa, then 50 versicolor, then 50 virginica); the
species is written as its name, so the file reads on its own.
"""
import csv
import pathlib

from sklearn.datasets import load_iris

iris = load_iris()
names = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
out = pathlib.Path(__file__).with_name("iris.csv")
with out.open("w", newline="") as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(names)
    for features, target in zip(iris.data, iris.target):
        writer.writerow([f"{v:.1f}" for v in features] + [iris.target_names[target]])
print(f"wrote {out} ({len(iris.data)} rows)")
