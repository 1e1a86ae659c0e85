"""Who may sign for a key and who may use a data directory, enforced across processes.

`local`: key leases as lock files on this machine; `data_dir`: the exclusive lock on a gateway's
data directory. The port they serve is `gateway.core.leases.KeyLeases`.
"""
