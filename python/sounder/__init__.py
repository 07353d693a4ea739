"""Sounder from Python: scikit-learn estimators over libsounder.

    from sounder import SounderClassifier
    model = SounderClassifier(max_iter=20).fit(X, y)
    model.predict_proba(X_test)
"""
from ._library import version as __library_version__
from .estimators import SounderClassifier, SounderKMeans, SounderRegressor

__version__ = "0.1.0"
__all__ = ["SounderClassifier", "SounderRegressor", "SounderKMeans", "__library_version__"]
