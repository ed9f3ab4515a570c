"""What each research question computes, per profile (the study's plan, as numbers)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class StudyProtocol:
    eval_archs: str = "deiso"            # architectures every estimator is evaluated on
    rq4_archs: str = "sample:500"        # the smaller set for the many RQ4 variants
    supernet_seeds: tuple = (0, 1, 2)    # RQ1/RQ2: spread across supernet seeds
    rq3_samplers: tuple = ("deiso", "fair", "mc:5")  # compared with the iso baseline
    rq3_affine: bool = True              # train one supernet with BN affine on
    prune_fractions: tuple = (0.1, 0.25, 0.5)
    # one-shot pruning: decide at epoch prune_at (None: the middle checkpoint), fine-tune inside the
    # kept sub-space up to the supernet's final epoch, compare with the unpruned supernet there
    prune_at: int | None = 600
    ensemble_last: int = 3               # temporal ensemble over the last k checkpoints
    zs_input_modes: tuple = ("real", "noise", "ones")
    zs_batch_sizes: tuple = (32, 64, 128)
    zs_batches: tuple = (1, 3, 5)        # scores averaged over the first b batches
    search_budgets: tuple = (50, 200)
    search_seeds: int = 20
    bootstrap: int = 1000
    diag_archs: int = 64                 # archs in forgetting / gradient-similarity diagnostics
    mc_samples: tuple = (1, 2, 3, 4, 5, 6, 7)  # RQ3: MC sample counts S (S=1 is the iso run)
    op_prune: tuple = (("avg_pool_3x3",), ("avg_pool_3x3", "nor_conv_1x1"))  # RQ3: ops removed everywhere
    soft_prune: str = "soft:200,50,2.0,1000"  # RQ3: soft:W,K,T,P (samplers.py); T in OS-acc points
    variant_epochs: int = 0              # epochs of those new RQ3 supernets (0: the supernet protocol's)
    op_prune_archs: str = "deiso"        # archs drawn inside each op-pruned sub-space for its tau


PROFILES = {
    "smoke": StudyProtocol(eval_archs="sample:50", rq4_archs="sample:10", supernet_seeds=(0, 1),
                           rq3_samplers=("deiso", "fair", "mc:2"), prune_fractions=(0.5,),
                           prune_at=None, ensemble_last=2, zs_batch_sizes=(16, 32), zs_batches=(1, 2),
                           search_budgets=(10,), search_seeds=3, bootstrap=100, diag_archs=6,
                           mc_samples=(1, 2), op_prune=(("avg_pool_3x3",),), soft_prune="soft:1,1,2.0,16",
                           variant_epochs=2, op_prune_archs="sample:30"),
    # quick (2 CPU cores, < 60 min): the headline de-iso supernets and the iso baseline train the
    # profile's 20 epochs; fair, MC counts, op and soft pruning train variant_epochs = 5 (fair's 5
    # epochs = 1.25x iso's 20 epochs of arch updates); RQ4 varies inputs/batching on 15 archs; proxies on
    # C16/N5 cost ~10 CPU-s per arch for 64 images (grasp's Hessian-vector product is half of it),
    # so 200 archs are evaluated
    "quick": StudyProtocol(eval_archs="sample:200", rq4_archs="sample:15", supernet_seeds=(0, 1),
                           rq3_samplers=("deiso",), prune_fractions=(0.25, 0.5),
                           prune_at=None, ensemble_last=3, zs_batch_sizes=(32, 64), zs_batches=(1, 2),
                           search_budgets=(20, 50), search_seeds=10, bootstrap=500, diag_archs=16,
                           mc_samples=(1, 2, 3), op_prune=(("avg_pool_3x3",),), soft_prune="soft:2,1,2.0,64",
                           variant_epochs=5, op_prune_archs="sample:100"),
    "paper": StudyProtocol(),
}
