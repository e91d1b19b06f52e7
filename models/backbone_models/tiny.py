"""Randomly initialised BERT base models with a locally trained WordPiece vocabulary.

Nothing can be downloaded in tests or CI, so the training and serving code runs on these. The
saved folder is a plain Hugging Face model (config, weights, tokenizer), exactly what a real base
model from the hub or a mounted OSS path looks like to `train-embedder` and `train-reranker`.
"""

from collections.abc import Iterable
from pathlib import Path

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ALPHABET = list("abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'\"()-_/&%$#@+=*[]{}<>")


def build_base(out: Path, corpus: Iterable[str], hidden: int = 64, layers: int = 2, heads: int = 2,
               vocab_size: int = 800, max_len: int = 128, seed: int = 0) -> Path:
    """Train a WordPiece vocabulary on `corpus`, save a random-init BertModel and its tokenizer."""
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    torch.manual_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    wordpiece = BertWordPieceTokenizer(lowercase=True)
    wordpiece.train_from_iterator(list(corpus), vocab_size=vocab_size, min_frequency=1,
                                  special_tokens=SPECIAL_TOKENS, initial_alphabet=ALPHABET, show_progress=False)
    wordpiece.save_model(str(out))
    # transformers 5: BertTokenizerFast(vocab_file=...) ignores the argument (it is now `vocab=`)
    # and yields a 5-token vocabulary; from_pretrained on the folder reads vocab.txt correctly.
    tokenizer = BertTokenizerFast.from_pretrained(str(out), do_lower_case=True, model_max_length=max_len)
    if tokenizer.vocab_size <= len(SPECIAL_TOKENS) + len(ALPHABET):
        raise RuntimeError(f"tokenizer has only {tokenizer.vocab_size} tokens; the vocabulary was not loaded")
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=hidden * 4 if hidden > 64 else 128,
                        max_position_embeddings=max_len, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0)
    BertModel(config).save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


# ChatML, the turn format of Qwen's chat models, so the tiny model's prompts look like a real base's.
CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
CHAT_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def build_causal_lm(out: Path, corpus: Iterable[str], hidden: int = 64, layers: int = 2, heads: int = 4,
                    vocab_size: int = 1000, max_len: int = 4096, seed: int = 0) -> Path:
    """A random-init Qwen2 causal LM with a byte-level BPE vocabulary trained on `corpus` and a
    ChatML chat template: the same architecture family and files as a Qwen checkpoint, at toy size."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(list(corpus), trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=CHAT_SPECIAL_TOKENS, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))  # every byte, so no text is unknown
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        model_max_length=max_len, chat_template=CHATML)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
                         max_position_embeddings=max_len, tie_word_embeddings=True,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=None)
    Qwen2ForCausalLM(config).save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out
