# VGG-16 (Simonyan & Zisserman 2015) as torchvision's vgg16 counts it: thirteen 3x3
# convolutions in five stages, then three fully connected layers.
# symparams summary examples/zoo/vgg16.sp
convention torch

block stage(f)(x):
    x = relu(conv2d(f, 3, padding=1)(x))
    return maxpool2d(2)(x)

block conv3(f)(x):
    return relu(conv2d(f, 3, padding=1)(x))

model vgg16(H = 224, W = 224, classes = 1000, fc = 4096):
    input (3, H, W)
    conv3(64)
    stage(64)
    conv3(128)
    stage(128)
    repeat(2, conv3(256))
    stage(256)
    repeat(2, conv3(512))
    stage(512)
    repeat(2, conv3(512))
    stage(512)
    adaptive_avgpool2d(7)
    flatten
    linear(fc, activation=relu)
    dropout(0.5)
    linear(fc, activation=relu)
    dropout(0.5)
    linear(classes)
