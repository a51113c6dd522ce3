/** Now, ticking once a second, for countdowns. */
export class Clock {
  now = $state(Date.now());

  start(): () => void {
    const timer = setInterval(() => {
      this.now = Date.now();
    }, 1000);
    return () => clearInterval(timer);
  }
}
