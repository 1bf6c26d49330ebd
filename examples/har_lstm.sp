# Human activity recognition; try --convention torch for PyTorch's two LSTM bias vectors.
model har_lstm(T = 100, F = 6, U = 64, classes = 6):
    input (T, F)
    lstm(U, return_sequences=true)
    dropout(0.5)
    lstm(U)
    dense(64, activation=relu)
    dense(64, activation=relu)
    dense(classes, activation=softmax)
