"""Exact resume: a run interrupted at any batch and resumed from its run
checkpoint gives the same losses, logs and weights, to the last bit, as a
run that never stopped."""

import os
import signal

import numpy as np
import pytest
from train_fixtures import Recorder, make_run, params_of

import gradlab
from gradlab.train import Interrupted, callbacks

EPOCHS = 3  # 8 batches of 32 per epoch


def full_run(**kw):
    trainer, train, val, rec = make_run(**kw)
    history = trainer.fit(train, val, epochs=kw.get("epochs", EPOCHS))
    return trainer, history, rec


def interrupted_run(tmp_path, at, **kw):
    trainer, train, val, rec1 = make_run(interrupt_at=at, **kw)
    path = tmp_path / "interrupted.ckpt"
    with pytest.raises(Interrupted) as info:
        trainer.fit(train, val, epochs=kw.get("epochs", EPOCHS), checkpoint_path=path)
    assert info.value.checkpoint == path and path.is_file()
    # a fresh process would rebuild everything from scratch: do the same, and
    # scramble the default generator to show that the checkpoint restores it
    gradlab.manual_seed(12345)
    trainer2, train2, val2, rec2 = make_run(**kw)
    history = trainer2.fit(train2, val2, epochs=kw.get("epochs", EPOCHS), resume_from=path)
    return trainer2, history, rec1, rec2


@pytest.fixture(scope="module")
def reference():
    return full_run()


@pytest.mark.parametrize("at", [3, 8, 13], ids=["mid-epoch-in-warmup", "epoch-end", "mid-epoch-2"])
def test_resume_matches_uninterrupted_run_bit_for_bit(tmp_path, reference, at):
    ref_trainer, ref_history, ref_rec = reference
    trainer, history, rec1, rec2 = interrupted_run(tmp_path, at)
    assert len(rec1.losses) == at
    assert rec1.losses + rec2.losses == ref_rec.losses  # exact float equality
    assert rec1.epochs + rec2.epochs == ref_rec.epochs
    for key in ref_history.keys():
        if key != "time":
            assert history[key] == ref_history[key], key
    ref_params, params = params_of(ref_trainer.model), params_of(trainer.model)
    for k in ref_params:
        np.testing.assert_array_equal(params[k], ref_params[k], err_msg=k)
    ema, ref_ema = trainer.callbacks.callbacks[0], ref_trainer.callbacks.callbacks[0]
    assert ema.num_updates == ref_ema.num_updates


def test_resume_with_plateau_schedule_is_exact(tmp_path):
    _, ref_history, ref_rec = full_run(plateau=True, epochs=4)
    assert ref_history["lr"][-1] < ref_history["lr"][1]  # the plateau rule did reduce the rate
    _, history, rec1, rec2 = interrupted_run(tmp_path, 13, plateau=True, epochs=4)
    assert rec1.losses + rec2.losses == ref_rec.losses
    assert history["lr"] == ref_history["lr"]


def test_resume_mid_accumulation_is_exact(tmp_path):
    _, ref_history, ref_rec = full_run(grad_accumulation=3)
    _, history, rec1, rec2 = interrupted_run(tmp_path, 4, grad_accumulation=3)  # 1 of 3 batches pending
    assert rec1.losses + rec2.losses == ref_rec.losses
    assert history["val_loss"] == ref_history["val_loss"]


def test_ctrl_c_writes_a_checkpoint_at_the_batch_end(tmp_path):
    class CtrlC(callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if self.trainer.global_step == 5:
                os.kill(os.getpid(), signal.SIGINT)  # arrives mid-batch

    before = signal.getsignal(signal.SIGINT)
    trainer, train, val, rec = make_run()
    trainer.callbacks.callbacks.append(CtrlC())
    trainer.callbacks.callbacks[-1].set_trainer(trainer)
    with pytest.raises(Interrupted) as info:
        trainer.fit(train, val, epochs=EPOCHS, checkpoint_path=tmp_path / "c.ckpt")
    # the batch that was running when the signal came finished first
    assert len(rec.losses) == 6
    assert gradlab.load(info.value.checkpoint)["progress"]["global_step"] == 6
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back


def test_resume_after_early_stop_does_not_train_more(tmp_path):
    trainer, train, val, rec = make_run(early_stopping_patience=1, early_stopping_baseline=0.0)
    path = tmp_path / "last.ckpt"
    trainer.fit(train, val, epochs=EPOCHS)
    assert trainer.stop_training and len(rec.losses) == 16  # stopped after epoch 2
    trainer.save_checkpoint(path)
    trainer2, train2, val2, rec2 = make_run(early_stopping_patience=1, early_stopping_baseline=0.0)
    trainer2.fit(train2, val2, epochs=EPOCHS, resume_from=path)
    assert rec2.losses == []


def test_mismatched_checkpoint_is_refused_naming_the_file(tmp_path):
    trainer, train, val, _ = make_run()
    trainer.fit(train, val, epochs=1)
    path = tmp_path / "run.ckpt"
    trainer.save_checkpoint(path)
    other, train2, val2, _ = make_run()
    other.model[1] = gradlab.nn.Linear(64, 32, bias=False)
    with pytest.raises(ValueError, match="run.ckpt.*does not match the model"):
        other.fit(train2, val2, epochs=2, resume_from=path)
    other2, train3, val3, _ = make_run()
    other2.callbacks.callbacks.append(Recorder())
    with pytest.raises(ValueError, match="callbacks"):
        other2.fit(train3, val3, epochs=2, resume_from=path)
