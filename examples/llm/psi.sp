# A model of exactly P parameters (one bias-free dense layer), for figures per parameter such as
# the ZeRO paper's model-state memory for a model of Ψ = 7.5B.
model psi(P = 7500000000):
    x = input (1)
    y = dense(P, use_bias=false)(x)
