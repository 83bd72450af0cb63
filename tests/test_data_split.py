from collections import Counter

from medtune.data.split import grouped_stratified_split, stratified_split, subsample_groups


def make(n_groups=200):
    labels, groups = [], []
    for g in range(n_groups):
        for q, qtype in enumerate(["information", "symptoms", "treatment"][: 1 + g % 3]):
            labels.append(qtype)
            groups.append(f"focus{g}")
    return labels, groups


def test_no_group_in_two_splits_and_each_type_in_each_split():
    labels, groups = make()
    assignment = grouped_stratified_split(labels, groups, 0.1, 0.1, seed=3)
    split_of_group = {}
    for g, s in zip(groups, assignment):
        assert split_of_group.setdefault(g, s) == s
    counts = Counter(assignment)
    assert 0.05 < counts["test"] / len(labels) < 0.15 and 0.05 < counts["validation"] / len(labels) < 0.15
    for name in ("train", "validation", "test"):
        assert {l for l, s in zip(labels, assignment) if s == name} == {"information", "symptoms", "treatment"}


def test_split_is_deterministic_and_seeded():
    labels, groups = make()
    assert grouped_stratified_split(labels, groups, 0.1, 0.05, 1) == grouped_stratified_split(labels, groups, 0.1, 0.05, 1)
    assert grouped_stratified_split(labels, groups, 0.1, 0.05, 1) != grouped_stratified_split(labels, groups, 0.1, 0.05, 2)


def test_train_fraction_subsamples_whole_groups_only():
    labels, groups = make()
    train = [i for i, s in enumerate(grouped_stratified_split(labels, groups, 0.1, 0.05, 1)) if s == "train"]
    half = subsample_groups(train, groups, 0.5, seed=1)
    assert set(half) < set(train)
    kept_groups = {groups[i] for i in half}
    assert all(groups[i] not in kept_groups for i in set(train) - set(half))
    assert subsample_groups(train, groups, 1.0, seed=1) == train


def test_stratified_split_per_label():
    labels = ["a"] * 50 + ["b"] * 30
    out = stratified_split(labels, {"train": 1.0, "validation": 0.1}, seed=0)
    assert Counter(zip(labels, out))[("a", "validation")] == 5
    assert Counter(zip(labels, out))[("b", "validation")] == 3
