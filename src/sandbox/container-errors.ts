// Why a pod's container has not started, in the two kinds a kubelet knows.

/**
 * A problem that can go away (a Secret not created yet): the container stays `waiting` with this
 * reason and the kubelet tries again.
 */
export class ContainerWaiting extends Error {
  readonly reason: string;

  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** A problem that cannot (no command to run): the container ends as `StartError` and the pod fails. */
export class ContainerStartError extends Error {}
