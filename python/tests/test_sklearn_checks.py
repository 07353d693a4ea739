"""scikit-learn's own estimator checks, on every estimator.

The checks that cannot pass are listed with the reason; everything else
passes as scikit-learn runs it.
"""
from sklearn.utils.estimator_checks import parametrize_with_checks

from sounder import SounderClassifier, SounderKMeans, SounderRegressor

WEIGHTS_ARE_NOT_REPEATS = (
    "a row of weight 2 is one stochastic step of twice the size, not two steps at different points of "
    "the descent; and even L-BFGS run to the optimum agrees only to float32 precision (about 1e-5 "
    "relative, test_oracles.py holds it to 1e-4), where the check asks for 1e-7")


def expected_failures(estimator):
    failures = {
        "check_sample_weight_equivalence_on_dense_data": WEIGHTS_ARE_NOT_REPEATS,
        "check_sample_weight_equivalence_on_sparse_data": WEIGHTS_ARE_NOT_REPEATS,
    }
    if isinstance(estimator, SounderKMeans):
        too_many = (
            "the check asks for 8 clusters of 4 distinct rows; Sounder refuses k above the number of "
            "distinct rows with an error instead of returning duplicate centres")
        failures["check_sample_weights_shape"] = too_many
        failures["check_sample_weights_not_overwritten"] = too_many
        seeding = (
            "k-means++ draws its seeds by weight from the rows as given: repeated rows and weighted rows "
            "are different draws, so the runs start (and may end) apart")
        failures["check_sample_weight_equivalence_on_dense_data"] = seeding
        failures["check_sample_weight_equivalence_on_sparse_data"] = seeding
    return failures


@parametrize_with_checks(
    [SounderClassifier(random_state=0), SounderRegressor(random_state=0), SounderKMeans(random_state=0)],
    expected_failed_checks=expected_failures,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
