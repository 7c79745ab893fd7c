//go:build unix

package manifest

import (
	"io/fs"
	"syscall"
)

// smallFileMax is the largest file readSmall reads whole.
const smallFileMax = 1 << 20

// readSmall reads a regular file of at most smallFileMax bytes with plain
// system calls. os.Open would also try to register each file with the
// runtime's network poller (four fcntl calls and an epoll_ctl that always
// fails for regular files): a third of the system time of a run over
// thousands of small files. ok is false, with no error, when the file is
// not regular or larger: the caller then reads it as a stream.
func readSmall(path string) (data []byte, size int64, ok bool, err error) {
	var fd int
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, 0, false, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer func() {
		for syscall.Close(fd) == syscall.EINTR {
		}
	}()
	var st syscall.Stat_t
	for {
		err = syscall.Fstat(fd, &st)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, 0, false, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size > smallFileMax {
		return nil, st.Size, false, nil
	}
	data = make([]byte, st.Size)
	for n := 0; n < len(data); {
		m, err := syscall.Read(fd, data[n:])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return nil, 0, false, &fs.PathError{Op: "read", Path: path, Err: err}
		case m == 0: // shrank since fstat
			return data[:n], int64(n), true, nil
		}
		n += m
	}
	return data, st.Size, true, nil
}
