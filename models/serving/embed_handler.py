"""TorchServe handler: OpenAI-style embeddings (models/CONTRACT.md).

Texts of every request in a server-side batch are encoded in one forward pass, then split back.
"""

import logging

from contract import ContractError, embeddings_response, parse_embeddings
from handler_base import configure_threads, error_reply, placement, reply, request_body, server_error
from model_settings import read_settings

logger = logging.getLogger(__name__)


class EmbeddingHandler:
    def __init__(self):
        self.initialized = False

    def initialize(self, context):
        from sentence_transformers import SentenceTransformer

        configure_threads()
        model_dir = context.system_properties.get("model_dir")
        settings = read_settings(model_dir)
        self.dimensions = int(settings["dimensions"])
        self.name = settings.get("name") or context.manifest["model"]["modelName"]
        device, half = placement(context)
        self.model = SentenceTransformer(
            model_dir, device=device, local_files_only=True, truncate_dim=settings.get("truncate_dim")
        )
        if half:
            self.model.half()
        self.model.eval()
        produced = self.model.get_embedding_dimension()
        if produced != self.dimensions:
            raise RuntimeError(f"model in {model_dir} produces {produced} dimensions; the contract says {self.dimensions}")
        self.initialized = True
        logger.info("embedder %s ready: %d dimensions on %s%s", self.name, produced, device, " (fp16)" if half else "")

    def handle(self, data, context):
        replies: list[str | None] = [None] * len(data)
        texts: list[str] = []
        owners = []
        for idx, row in enumerate(data):
            try:
                items, fmt = parse_embeddings(request_body(row), self.dimensions)
            except ContractError as err:
                replies[idx] = error_reply(context, idx, err)
                continue
            owners.append((idx, len(texts), len(items), fmt))
            texts.extend(items)
        if not owners:
            return replies
        try:
            # float32 whatever the model's precision: the contract's vectors are float32
            vectors = self.model.encode(texts, batch_size=64, convert_to_numpy=True, show_progress_bar=False)
            vectors = vectors.astype("float32", copy=False)
            lengths = [len(ids) for ids in self.model.tokenizer(texts, truncation=True)["input_ids"]]
        except Exception as exc:  # noqa: BLE001 - answered as a JSON 500 per request
            for idx, *_ in owners:
                replies[idx] = server_error(context, idx, exc)
            return replies
        for idx, start, n, fmt in owners:
            payload = embeddings_response(vectors[start : start + n], fmt, self.name, sum(lengths[start : start + n]))
            replies[idx] = reply(context, idx, payload)
        return replies
