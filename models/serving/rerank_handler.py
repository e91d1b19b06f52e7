"""TorchServe handler: Cohere-style rerank (models/CONTRACT.md).

The (query, document) pairs of every request in a server-side batch are scored in one pass.
"""

import logging

from contract import ContractError, parse_rerank, rerank_response
from handler_base import configure_threads, error_reply, placement, reply, request_body, server_error
from model_settings import read_settings

logger = logging.getLogger(__name__)


class RerankHandler:
    def __init__(self):
        self.initialized = False

    def initialize(self, context):
        from sentence_transformers import CrossEncoder

        configure_threads()
        model_dir = context.system_properties.get("model_dir")
        settings = read_settings(model_dir)
        self.name = settings.get("name") or context.manifest["model"]["modelName"]
        device, half = placement(context)
        self.model = CrossEncoder(model_dir, device=device, local_files_only=True)
        if half:
            self.model.half()
        self.model.eval()
        self.initialized = True
        logger.info("reranker %s ready on %s%s", self.name, device, " (fp16)" if half else "")

    def handle(self, data, context):
        replies: list[str | None] = [None] * len(data)
        pairs: list[tuple[str, str]] = []
        owners = []
        for idx, row in enumerate(data):
            try:
                query, docs, top_n, ret = parse_rerank(request_body(row))
            except ContractError as err:
                replies[idx] = error_reply(context, idx, err)
                continue
            owners.append((idx, len(pairs), docs, top_n, ret))
            pairs.extend((query, d) for d in docs)
        if not owners:
            return replies
        try:
            # CrossEncoder applies a sigmoid to single-label models: scores fall in [0, 1]
            scores = self.model.predict(pairs, batch_size=64, convert_to_numpy=True, show_progress_bar=False)
            scores = scores.astype("float64", copy=False)  # every score a JSON float, whatever the precision
        except Exception as exc:  # noqa: BLE001 - answered as a JSON 500 per request
            for idx, *_ in owners:
                replies[idx] = server_error(context, idx, exc)
            return replies
        for idx, start, docs, top_n, ret in owners:
            payload = rerank_response(scores[start : start + len(docs)], docs, top_n, ret, self.name)
            replies[idx] = reply(context, idx, payload)
        return replies
