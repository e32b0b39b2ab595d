"""Building the model of a config file in its registry scope, for the benchmark builders."""


def build_from_config(path, scope, options=None):
    """Build the model of config ``path`` in registry ``scope``, with dotted-key ``options``
    merged in, and initialise its weights (some mmdet parameters, e.g. Deformable DETR's level
    embeddings, hold uninitialised memory until ``init_weights``)."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope, init_default_scope

    cfg = Config.fromfile(path)
    cfg.merge_from_dict(options or {})
    init_default_scope(scope)
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(cfg.model)
    model.init_weights()
    return model
