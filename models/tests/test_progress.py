from backbone_models.progress import Stages


def test_stages_keep_each_steps_seconds_and_value():
    said: list[str] = []
    stage = Stages(said.append)
    assert stage("first", lambda: 41) == 41
    assert stage("second", lambda: None) is None
    assert list(stage.seconds) == ["first", "second"]
    assert all(seconds >= 0 for seconds in stage.seconds.values())
    assert said == ["first: 0 s", "second: 0 s"]
