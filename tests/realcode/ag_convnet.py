"""autograd's examples/convnet.py style: layer objects (conv, max pool, full) that
build their parameter slots in a WeightsParser and take the flat parameter vector in
forward_pass; the net iterates its heterogeneous list of layers. The convolution is
written with loops instead of autograd.scipy.signal.convolve."""
import numpy as np
import numpy.random as npr


class WeightsParser(object):
    """A helper class to index into a parameter vector."""
    def __init__(self):
        self.idxs_and_shapes = {}
        self.N = 0

    def add_weights(self, name, shape):
        start = self.N
        self.N += int(np.prod(shape))
        self.idxs_and_shapes[name] = (slice(start, self.N), shape)

    def get(self, vect, name):
        idxs, shape = self.idxs_and_shapes[name]
        return np.reshape(vect[idxs], shape)


class conv_layer(object):
    def __init__(self, kernel_shape, num_filters):
        self.kernel_shape = kernel_shape
        self.num_filters = num_filters

    def forward_pass(self, inputs, param_vector):
        # Input dimensions:  [data, color_in, y, x]
        # Params dimensions: [color_in, color_out, y, x]
        # Output dimensions: [data, color_out, y, x]
        params = self.parser.get(param_vector, 'params')
        biases = self.parser.get(param_vector, 'biases')
        kh, kw = self.kernel_shape
        n, c, h, w = inputs.shape
        out_h, out_w = h - kh + 1, w - kw + 1
        columns = []
        for i in range(out_h):
            for j in range(out_w):
                patch = inputs[:, :, i:i + kh, j:j + kw]
                columns.append(np.einsum('ncyx,cfyx->nf', patch, params))
        conv = np.stack(columns, axis=2).reshape(n, self.num_filters, out_h, out_w)
        return conv + biases

    def build_weights_dict(self, input_shape):
        # Input shape : [color, y, x] (don't need to know number of data yet)
        self.parser = WeightsParser()
        self.parser.add_weights('params', (input_shape[0], self.num_filters)
                                          + self.kernel_shape)
        self.parser.add_weights('biases', (1, self.num_filters, 1, 1))
        output_shape = (self.num_filters,) + \
            tuple(s - k + 1 for s, k in zip(input_shape[1:], self.kernel_shape))
        return self.parser.N, output_shape


class maxpool_layer(object):
    def __init__(self, pool_shape):
        self.pool_shape = pool_shape

    def build_weights_dict(self, input_shape):
        # input_shape dimensions: [color, y, x]
        output_shape = list(input_shape)
        for i in [0, 1]:
            assert input_shape[i + 1] % self.pool_shape[i] == 0, \
                "maxpool shape should tile input exactly"
            output_shape[i + 1] = input_shape[i + 1] // self.pool_shape[i]
        return 0, output_shape

    def forward_pass(self, inputs, param_vector):
        new_shape = inputs.shape[:2]
        for i in [0, 1]:
            pool_width = self.pool_shape[i]
            img_width = inputs.shape[i + 2]
            new_shape += (img_width // pool_width, pool_width)
        result = inputs.reshape(new_shape)
        return np.max(np.max(result, axis=3), axis=4)


class full_layer(object):
    def __init__(self, size):
        self.size = size

    def build_weights_dict(self, input_shape):
        # Input shape is anything (all flattened)
        input_size = int(np.prod(input_shape, dtype=int))
        self.parser = WeightsParser()
        self.parser.add_weights('params', (input_size, self.size))
        self.parser.add_weights('biases', (self.size,))
        return self.parser.N, (self.size,)

    def forward_pass(self, inputs, param_vector):
        params = self.parser.get(param_vector, 'params')
        biases = self.parser.get(param_vector, 'biases')
        if inputs.ndim > 2:
            inputs = inputs.reshape((inputs.shape[0], int(np.prod(inputs.shape[1:]))))
        return self.nonlinearity(np.dot(inputs[:, :], params) + biases)


class tanh_layer(full_layer):
    def nonlinearity(self, x):
        return np.tanh(x)


class softmax_layer(full_layer):
    def nonlinearity(self, x):
        return x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))


class ConvNet(object):
    def __init__(self, input_shape, layer_specs, L2_reg):
        self.parser = WeightsParser()
        self.layers = layer_specs
        self.L2_reg = L2_reg
        cur_shape = input_shape
        for num_layer, layer in enumerate(layer_specs):
            N_weights, cur_shape = layer.build_weights_dict(cur_shape)
            self.parser.add_weights(num_layer, (N_weights,))

    def predictions(self, W_vect, inputs):
        """Outputs normalized log-probabilities.
        shape of inputs : [data, color, y, x]"""
        cur_units = inputs
        for layer_num, layer in enumerate(self.layers):
            cur_weights = self.parser.get(W_vect, layer_num)
            cur_units = layer.forward_pass(cur_units, cur_weights)
        return cur_units

    def loss(self, W_vect, X, T):
        log_prior = -self.L2_reg * np.dot(W_vect, W_vect)
        log_lik = np.sum(self.predictions(W_vect, X) * T)
        return - log_prior - log_lik


def problem():
    layer_specs = [conv_layer((3, 3), 2),
                   maxpool_layer((2, 2)),
                   tanh_layer(6),
                   softmax_layer(3)]
    net = ConvNet((1, 6, 6), layer_specs, L2_reg=1.0)
    rs = npr.RandomState(0)
    W = 0.1 * rs.randn(net.parser.N)
    X = rs.randn(2, 1, 6, 6)
    T = np.eye(3)[[0, 2]]
    return dict(f=net.loss, args=(W, X, T), wrt=0, lr=1e-2)
