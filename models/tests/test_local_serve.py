import pytest

from backbone_models.local_serve import parse_models


def test_parse_models_maps_names_to_archives():
    assert parse_models("embed=embed.mar,rerank=rerank.mar") == {"embed": "embed.mar", "rerank": "rerank.mar"}


@pytest.mark.parametrize("spec", ["embed", "embed=embed.zip", "=embed.mar", "embed=embed.mar,"])
def test_parse_models_names_the_bad_part(spec):
    with pytest.raises(ValueError, match="is not <name>=<file>.mar"):
        parse_models(spec)
