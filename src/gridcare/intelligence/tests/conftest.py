import pytest


@pytest.fixture(scope="session")
def small_model_path(tmp_path_factory):
    """A model trained once per test session on a small slice of the corpus (fast, deterministic)."""
    from gridcare.intelligence import classifier, corpus

    path = tmp_path_factory.mktemp("models") / "classifier.gcm"
    classifier.save(classifier.train(corpus.training_corpus(per_label=40)), path)
    return path


@pytest.fixture
def model_settings(settings, small_model_path):
    from gridcare.intelligence import classifier

    settings.GRIDCARE_CLASSIFIER_PATH = str(small_model_path)
    classifier.clear_cache()
    yield small_model_path
    classifier.clear_cache()
