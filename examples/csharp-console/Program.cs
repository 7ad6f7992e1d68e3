// Fits a small MLP to the score-free part of a 2-D toy: predict a point of the ring of Gaussians from a
// noisy copy (a one-level denoiser), with Adam, inside dispose scopes. Prints the loss before and after.
using Research.Data;
using Research.Torch;
using static Research.Torch.torch;

manual_seed(0);
var generator = new Generator(1);
using var net = new nn.Sequential(new nn.Linear(2, 64), nn.SiLU(), new nn.Linear(64, 64), nn.SiLU(), new nn.Linear(64, 2));
using var optimizer = new optim.Adam(net.parameters(), lr: 1e-2);

double Step()
{
    using var scope = NewDisposeScope();
    var x0 = Toy2D.RingOfGaussians(512, generator);
    var noisy = x0 + randn_like(x0, generator) * 0.5;
    var loss = nn.functional.mse_loss(net.forward(noisy), x0);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    return loss.ToDouble();
}

double first = Step(), last = first;
for (int i = 1; i < 300; i++) last = Step();
Console.WriteLine($"denoising loss {first:F4} -> {last:F4}");
return last < first / 2 ? 0 : 1;
