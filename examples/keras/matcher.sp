# Functional model 'matcher' from examples/keras/matcher.json, imported by `symparams import`
# (its JSON config, nothing executed): counted as Keras builds it.
convention keras

block tower(vocab_size, d)(x):
    x = embedding(vocab_size, d, name=embed)(x)
    x = global_avgpool1d(name=pool)(x)
    return dense(d, activation=relu, name=project)(x)

model matcher(vocab_size = 5000, d = 64, T = 20):
    query = input (T) int
    document = input (T) int
    features = input (16)
    tower_shared = tower(vocab_size, d, name=tower)
    tower_out = tower_shared(query)
    tower_out_1 = tower_shared(document)
    prior = dense(d, name=prior, trainable=false)(features)
    merged = concatenate(name=merged)(tower_out, tower_out_1, prior)
    score = dense(1, activation=sigmoid, name=score)(merged)
