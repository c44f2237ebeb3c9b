"""Train a SentencePiece-style Unigram tokenizer (HF `tokenizers`) on the train split of a task.

Shared source/target vocabulary, 8000 pieces, NFKC normalization, Metaspace pre-tokenizer/decoder,
special tokens <pad>=0 </s>=1 <unk>=2, post-processor appends </s> (Marian convention).
Writes tokenizer.json + tokenizer_config.json into models/<out>/.

usage: python train_tokenizer.py {en-de|summarize}
"""
import json
import sys

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from common import ARCH, TASKS, model_dir, pairs, write_tokenizer_config


def main(task):
    data = pairs(task, "train")
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=ARCH["vocab_size"], special_tokens=["<pad>", "</s>", "<unk>"],
                                      unk_token="<unk>", max_piece_length=16, shrinking_factor=0.75, n_sub_iterations=2)

    def it():
        for s, t in data:
            yield s
            yield t
    tok.train_from_iterator(it(), trainer, length=2 * len(data))
    assert tok.token_to_id("<pad>") == 0 and tok.token_to_id("</s>") == 1 and tok.token_to_id("<unk>") == 2
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A $B </s>",
                                                       special_tokens=[("</s>", 1)])
    out = model_dir(task)
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    write_tokenizer_config(out, TASKS[task]["max_src"])
    print(task, "vocab", tok.get_vocab_size(), "->", out / "tokenizer.json")
    print(tok.encode(data[0][0]).tokens[:30])


if __name__ == "__main__":
    main(sys.argv[1])
